//===- KernelABI.h - The kernel header, defined once for the compiler ---*- C++ -*-===//
//
// Every generated kernel takes one `ncl_kernel_args *` (runtime/include/ncl/
// model_abi.h): a table of buffers and a small scalar header. This file is
// the compiler's only description of that header: ncl-to-loops names each
// kernel argument after a field listed here, and the CPU target builds the
// LLVM struct and the loads from the same list. The static_asserts below
// check it against the C header, field by field, when the compiler is
// built; the enum values of the dialect's buffer roles and extents are
// checked against the ABI's here too.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_TARGET_KERNELABI_H
#define NCL_TARGET_KERNELABI_H

#include "ncl/Dialect/Ncl/IR/NclAttributes.h"
#include "ncl/model_abi.h"

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <optional>

namespace ncl::abi {

/// How a header field is passed to a kernel function.
enum class FieldKind {
  Pointer, ///< void *const * (the buffer table)
  Index,   ///< int64_t, as an MLIR `index`
  I64,     ///< int64_t or uint64_t, as i64
  F64,     ///< double
  Results, ///< spike_count and steps_done, as memref<2xi64> (the kernel writes them)
  Spikes,  ///< const int32_t * with num_spikes entries, as memref<?xi32>
  Synapses ///< const int64_t * with num_synapses entries, as memref<?xi64>
};

struct HeaderField {
  const char *name; ///< as written in a stage's `args`
  FieldKind kind;
  size_t offset; ///< offsetof(ncl_kernel_args, ...)
};

/// The fields of ncl_kernel_args in declaration order; every one is 8 bytes.
inline constexpr HeaderField kHeaderFields[] = {
    {"buffers", FieldKind::Pointer, offsetof(ncl_kernel_args, buffers)},
    {"begin", FieldKind::Index, offsetof(ncl_kernel_args, begin)},
    {"end", FieldKind::Index, offsetof(ncl_kernel_args, end)},
    {"size", FieldKind::Index, offsetof(ncl_kernel_args, size)},
    {"first_step", FieldKind::I64, offsetof(ncl_kernel_args, first_step)},
    {"num_steps", FieldKind::Index, offsetof(ncl_kernel_args, num_steps)},
    {"seed", FieldKind::I64, offsetof(ncl_kernel_args, seed)},
    {"dt", FieldKind::F64, offsetof(ncl_kernel_args, dt)},
    {"spike_capacity", FieldKind::Index, offsetof(ncl_kernel_args, spike_capacity)},
    {"results", FieldKind::Results, offsetof(ncl_kernel_args, spike_count)},
    {"steps_done", FieldKind::I64, offsetof(ncl_kernel_args, steps_done)},
    {"spikes", FieldKind::Spikes, offsetof(ncl_kernel_args, spikes)},
    {"num_spikes", FieldKind::Index, offsetof(ncl_kernel_args, num_spikes)},
    {"synapses", FieldKind::Synapses, offsetof(ncl_kernel_args, synapses)},
    {"num_synapses", FieldKind::Index, offsetof(ncl_kernel_args, num_synapses)},
    {"batch", FieldKind::Index, offsetof(ncl_kernel_args, batch)},
    {"pre_size", FieldKind::Index, offsetof(ncl_kernel_args, pre_size)},
    {"post_size", FieldKind::Index, offsetof(ncl_kernel_args, post_size)},
};
inline constexpr size_t kNumHeaderFields = sizeof(kHeaderFields) / sizeof(kHeaderFields[0]);

constexpr bool headerMatchesC() {
  for (size_t i = 0; i < kNumHeaderFields; ++i)
    if (kHeaderFields[i].offset != 8 * i)
      return false;
  return sizeof(ncl_kernel_args) == 8 * kNumHeaderFields;
}
static_assert(headerMatchesC(), "kHeaderFields must list ncl_kernel_args field for field");
static_assert(offsetof(ncl_kernel_args, steps_done) ==
                  offsetof(ncl_kernel_args, spike_count) + sizeof(int64_t),
              "`results` is spike_count and steps_done, adjacent");

/// The header field named `name` (its index in kHeaderFields), if any.
inline std::optional<unsigned> headerField(llvm::StringRef name) {
  for (unsigned i = 0; i < kNumHeaderFields; ++i)
    if (name == kHeaderFields[i].name)
      return i;
  return std::nullopt;
}

using mlir::ncl::BufferExtent;
using mlir::ncl::BufferRole;
using mlir::ncl::StageKind;
static_assert(static_cast<int>(BufferRole::Params) == NCL_BUFFER_PARAMS);
static_assert(static_cast<int>(BufferRole::State) == NCL_BUFFER_STATE);
static_assert(static_cast<int>(BufferRole::Refractory) == NCL_BUFFER_REFRACTORY);
static_assert(static_cast<int>(BufferRole::SpikeStep) == NCL_BUFFER_SPIKE_STEP);
static_assert(static_cast<int>(BufferRole::SpikeIndex) == NCL_BUFFER_SPIKE_INDEX);
static_assert(static_cast<int>(BufferRole::SpikeChannel) == NCL_BUFFER_SPIKE_CHANNEL);
static_assert(static_cast<int>(BufferExtent::Fixed) == NCL_EXTENT_FIXED);
static_assert(static_cast<int>(BufferExtent::Neurons) == NCL_EXTENT_NEURONS);
static_assert(static_cast<int>(BufferExtent::SpikeCapacity) == NCL_EXTENT_SPIKE_CAPACITY);
static_assert(static_cast<int>(StageKind::Init) == NCL_STAGE_INIT);
static_assert(static_cast<int>(StageKind::Step) == NCL_STAGE_STEP);
static_assert(static_cast<int>(StageKind::Connect) == NCL_STAGE_CONNECT);
static_assert(static_cast<int>(StageKind::Deliver) == NCL_STAGE_DELIVER);
static_assert(static_cast<int>(StageKind::Sum) == NCL_STAGE_SUM);
static_assert(static_cast<int>(StageKind::ConnectCondition) == NCL_STAGE_CONNECT_CONDITION);
static_assert(static_cast<int>(BufferRole::SynapticInput) == NCL_BUFFER_SYNAPTIC_INPUT);
static_assert(static_cast<int>(BufferRole::RowStart) == NCL_BUFFER_ROW_START);
static_assert(static_cast<int>(BufferRole::PostIndex) == NCL_BUFFER_POST_INDEX);
static_assert(static_cast<int>(BufferRole::SynapseState) == NCL_BUFFER_SYNAPSE_STATE);
static_assert(static_cast<int>(BufferRole::LastSpike) == NCL_BUFFER_LAST_SPIKE);
static_assert(static_cast<int>(BufferRole::SynapseDelay) == NCL_BUFFER_SYNAPSE_DELAY);
static_assert(static_cast<int>(StageKind::DeliverSynapses) == NCL_STAGE_DELIVER_SYNAPSES);
static_assert(static_cast<int>(BufferRole::ConnectMask) == NCL_BUFFER_CONNECT_MASK);
static_assert(static_cast<int>(BufferRole::PreTrace) == NCL_BUFFER_PRE_TRACE);
static_assert(static_cast<int>(BufferRole::PostTrace) == NCL_BUFFER_POST_TRACE);
static_assert(static_cast<int>(BufferRole::PreTraceNow) == NCL_BUFFER_PRE_TRACE_NOW);
static_assert(static_cast<int>(BufferRole::PostTraceNow) == NCL_BUFFER_POST_TRACE_NOW);
static_assert(static_cast<int>(BufferRole::ColumnPre) == NCL_BUFFER_COLUMN_PRE);
static_assert(static_cast<int>(BufferRole::Series) == NCL_BUFFER_SERIES);
static_assert(static_cast<int>(BufferRole::SeriesShape) == NCL_BUFFER_SERIES_SHAPE);
static_assert(static_cast<int>(BufferExtent::Synapses) == NCL_EXTENT_SYNAPSES);
static_assert(static_cast<int>(BufferExtent::Rows) == NCL_EXTENT_ROWS);
static_assert(static_cast<int>(BufferExtent::Columns) == NCL_EXTENT_COLUMNS);
static_assert(static_cast<int>(BufferRole::ColumnStart) == NCL_BUFFER_COLUMN_START);
static_assert(static_cast<int>(BufferRole::ColumnSynapse) == NCL_BUFFER_COLUMN_SYNAPSE);
static_assert(static_cast<int>(StageKind::OnPost) == NCL_STAGE_ON_POST);
static_assert(static_cast<int>(StageKind::SynapseStep) == NCL_STAGE_SYNAPSE_STEP);
static_assert(static_cast<int>(StageKind::Kwta) == NCL_STAGE_KWTA);
static_assert(static_cast<int>(StageKind::AdvancePreTraces) == NCL_STAGE_ADVANCE_PRE_TRACES);
static_assert(static_cast<int>(StageKind::AdvancePostTraces) == NCL_STAGE_ADVANCE_POST_TRACES);
static_assert(static_cast<int>(BufferRole::KwtaOrder) == NCL_BUFFER_KWTA_ORDER);
static_assert(static_cast<int>(BufferRole::KwtaDuty) == NCL_BUFFER_KWTA_DUTY);
static_assert(static_cast<int>(BufferRole::KwtaKey) == NCL_BUFFER_KWTA_KEY);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::AllToAll) == NCL_CONNECT_ALL_TO_ALL);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::OneToOne) == NCL_CONNECT_ONE_TO_ONE);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::FixedProbability) ==
              NCL_CONNECT_FIXED_PROBABILITY);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::FixedInDegree) ==
              NCL_CONNECT_FIXED_INDEGREE);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::FixedOutDegree) ==
              NCL_CONNECT_FIXED_OUTDEGREE);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::FixedTotal) == NCL_CONNECT_FIXED_TOTAL);
static_assert(static_cast<int>(mlir::ncl::MonitorKind::State) == NCL_MONITOR_STATE);
static_assert(static_cast<int>(mlir::ncl::MonitorKind::Synapse) == NCL_MONITOR_SYNAPSE);
static_assert(static_cast<int>(mlir::ncl::MonitorKind::Rate) == NCL_MONITOR_RATE);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::Explicit) == NCL_CONNECT_EXPLICIT);
static_assert(static_cast<int>(mlir::ncl::ConnectRule::Condition) == NCL_CONNECT_CONDITION);

} // namespace ncl::abi

#endif // NCL_TARGET_KERNELABI_H
