//===- Sources.h - Spike generators and timed inputs from .npy files -*- C++ -*-===//
//
// A spike generator's spikes and a timed input's samples come from .npy
// files named in the model (docs/semantics.md, "Sources"). They are read
// when the model is initialised, for the run's dt and sizes, never stored
// in the library; every problem with a file is one message naming its path.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_SOURCES_H
#define NCL_RUNTIME_LIB_SOURCES_H

#include "Model.h"

#include <string>

namespace ncl::rt {

/// The path a file name of population `pop` resolves to: as written when
/// absolute, else under the data directory (ncl_set_data_dir's, or the
/// directory of the .ncl file when it was compiled).
std::string resolveDataFile(const ncl_model &m, const ncl_population_info &pop, const char *file);

/// Reads every spike generator's and timed input's files for the current
/// dt and sizes into the populations (Population::generator, ::series).
/// Throws Error(NCL_ERROR_IO) with the path on any problem.
void loadSources(ncl_model &m);

/// Fills the series and shape buffers of the timed inputs (allocated from
/// their sizes, bufferElements) from what loadSources read.
void fillSeriesBuffers(ncl_model &m);

/// The spikes generator `pop` stamps with step index `stamp`: [first, last)
/// of its sorted indices.
std::pair<const int32_t *, const int32_t *> generatorSpikesAt(const Population &pop, int64_t stamp);

/// Appends to the records the generators' spikes of a chunk [s0, s1): the
/// step indices s0+1..s1 that a neuron's spike found in those steps would
/// carry, and index 0 with the first chunk of a run.
void recordGeneratorSpikes(ncl_model &m, int64_t s0, int64_t s1);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_SOURCES_H
