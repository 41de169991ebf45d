/*===- ncl/random_streams.h - Where a draw sits in Philox's key and counter ===*
 *
 * The one definition of how a random draw of an NCL program is identified:
 * which words of Philox4x32-10's 64-bit key and 128-bit counter hold the
 * seed, the step, the entity (neuron index) and the stream, the step used by
 * initial values, and how the compiler composes stream ids. The reference
 * generator (ncl/philox.h) and the compiler's MLIR emitter
 * (compiler/lib/Conversion/NclToLoops/Philox.cpp, its callers in
 * NclToLoops.cpp and MLIRGen.cpp) read it; test/e2e/philox_reference.py is an
 * independent copy written from docs/random.md, and test/unit/random checks
 * all three against each other. Plain C, so embedders may include it.
 *
 * A draw (seed, step, entity, stream) is
 *     key[0] = seed  & 0xffffffff        key[1] = seed >> 32
 *     ctr[0] = step  & 0xffffffff        ctr[1] = step >> 32
 *     ctr[2] = entity & 0xffffffff
 *     ctr[3] = (stream & 0xffff) << 16 | ((entity >> 32) & 0xffff)
 * which is one-to-one for entity < 2^48 and stream < 2^16.
 *
 * Changing anything here changes every random number every model draws.
 *===----------------------------------------------------------------------===*/
#ifndef NCL_RANDOM_STREAMS_H
#define NCL_RANDOM_STREAMS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Key words: the seed, low half first. */
#define NCL_RANDOM_KEY_SEED_LO 0
#define NCL_RANDOM_KEY_SEED_HI 1

/* Counter words: the step (low half first), the entity's low 32 bits, and
 * a word shared by the stream (high half) and the entity's bits 32..47. */
#define NCL_RANDOM_CTR_STEP_LO 0
#define NCL_RANDOM_CTR_STEP_HI 1
#define NCL_RANDOM_CTR_ENTITY_LO 2
#define NCL_RANDOM_CTR_STREAM_ENTITY_HI 3

/* Within word NCL_RANDOM_CTR_STREAM_ENTITY_HI. The fields are disjoint (not
 * XOR-ed), so no stream and entity pair collides with another. */
#define NCL_RANDOM_STREAM_SHIFT 16
#define NCL_RANDOM_STREAM_MASK 0xFFFFu    /* streams are 16 bits */
#define NCL_RANDOM_ENTITY_HI_MASK 0xFFFFu /* entity bits 32..47 */
#define NCL_RANDOM_ENTITY_BITS 48

/* The step of draws in initial values: 2^64 - 1, which no step uses. */
#define NCL_RANDOM_INIT_STEP UINT64_MAX

/* Stream ids the compiler assigns: population_index << NCL_RANDOM_SITE_BITS
 * | k, k numbering a neuron model's rand()/randn() calls (then its noise
 * sources) in reading order. Hence NCL_RANDOM_MAX_SITES sites per neuron
 * model and NCL_RANDOM_MAX_POPULATIONS populations that draw per network. */
#define NCL_RANDOM_SITE_BITS 10
#define NCL_RANDOM_MAX_SITES (1u << NCL_RANDOM_SITE_BITS)
#define NCL_RANDOM_MAX_POPULATIONS (1u << (16 - NCL_RANDOM_SITE_BITS))

/* The step of draws in the initial values of projection `projection`'s
 * synapses (its `state` initialisers and per-synapse delays): high word
 * 0xFFFE0000 | projection, which no simulation step (< 2^31) and no other
 * load-time draw uses. Such draws take the synapse's index in the
 * projection (its position in presynaptic order) as the entity and the
 * synapse model's site k as the stream. */
static inline uint64_t ncl_random_synapse_step(uint32_t projection) {
  return (uint64_t)(0xFFFE0000u | (projection & 0xFFFFu)) << 32;
}

/* The stream id of site `site` of population `population`. */
static inline uint32_t ncl_random_stream_id(uint32_t population, uint32_t site) {
  return (population << NCL_RANDOM_SITE_BITS) | site;
}

/* The key of draws under `seed`. */
static inline void ncl_random_key(uint64_t seed, uint32_t key[2]) {
  key[NCL_RANDOM_KEY_SEED_LO] = (uint32_t)seed;
  key[NCL_RANDOM_KEY_SEED_HI] = (uint32_t)(seed >> 32);
}

/* The counter of draw (step, entity, stream). */
static inline void ncl_random_counter(uint64_t step, uint64_t entity, uint32_t stream,
                                      uint32_t ctr[4]) {
  ctr[NCL_RANDOM_CTR_STEP_LO] = (uint32_t)step;
  ctr[NCL_RANDOM_CTR_STEP_HI] = (uint32_t)(step >> 32);
  ctr[NCL_RANDOM_CTR_ENTITY_LO] = (uint32_t)entity;
  ctr[NCL_RANDOM_CTR_STREAM_ENTITY_HI] =
      ((stream & NCL_RANDOM_STREAM_MASK) << NCL_RANDOM_STREAM_SHIFT) |
      ((uint32_t)(entity >> 32) & NCL_RANDOM_ENTITY_HI_MASK);
}

/* Connectivity draws (docs/random.md, "Connectivity draws"). The runtime
 * builds a projection's synapses at load time from draws whose step lies at
 * or above 0xFFFF0000_00000000, far from run steps (< 2^31) and from
 * NCL_RANDOM_INIT_STEP:
 *     step   = (0xFFFF0000 | projection) << 32 | block
 *     entity = the row (presynaptic neuron), the postsynaptic neuron
 *              (fixed in-degree) or the chunk of 256 synapses (fixed total)
 *     stream = the purpose (0: which synapses exist; later purposes are
 *              free for synapse variables drawn at load time)
 * An entity's draws form one sequence of 32-bit words: word w is word
 * (w & 3) of block (w >> 2). projection <= NCL_RANDOM_MAX_PROJECTION keeps
 * every such step below NCL_RANDOM_INIT_STEP. */
#define NCL_RANDOM_CONNECT_STEP_TAG 0xFFFF0000u
#define NCL_RANDOM_MAX_PROJECTION 0xFFFEu
#define NCL_RANDOM_CONNECT_PURPOSE_STRUCTURE 0u

/* The step of block `block` of projection `projection`'s connectivity draws. */
static inline uint64_t ncl_random_connect_step(uint32_t projection, uint32_t block) {
  return ((uint64_t)(NCL_RANDOM_CONNECT_STEP_TAG | (projection & 0xFFFFu)) << 32) | block;
}

/* The counter of block `block` of the connectivity draws of `entity` for
 * `purpose` in projection `projection`. */
static inline void ncl_random_connect_counter(uint32_t projection, uint32_t block, uint64_t entity,
                                              uint32_t purpose, uint32_t ctr[4]) {
  ncl_random_counter(ncl_random_connect_step(projection, block), entity, purpose, ctr);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NCL_RANDOM_STREAMS_H */
