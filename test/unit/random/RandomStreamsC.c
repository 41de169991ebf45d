/*===- RandomStreamsC.c - ncl/random_streams.h compiled as C -------------===*
 *
 * The layout header is public and plain C, for embedders: this file builds
 * it with the C compiler, and RandomStreamsTest.cpp checks that the C build
 * lays out draws as the C++ reference (ncl/philox.h) does.
 *===----------------------------------------------------------------------===*/
#include "ncl/random_streams.h"

void ncl_test_random_key_c(uint64_t seed, uint32_t key[2]) { ncl_random_key(seed, key); }

void ncl_test_random_counter_c(uint64_t step, uint64_t entity, uint32_t stream, uint32_t ctr[4]) {
  ncl_random_counter(step, entity, stream, ctr);
}

uint32_t ncl_test_random_stream_id_c(uint32_t population, uint32_t site) {
  return ncl_random_stream_id(population, site);
}

uint64_t ncl_test_random_init_step_c(void) { return NCL_RANDOM_INIT_STEP; }
