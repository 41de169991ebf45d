/*===- embed.c - Embedding a compiled NCL model in a C program ------------===*
 *
 * usage: ncl-embed-example MODEL.so [POP.PARAM=VALUE]
 *
 * Everything a host program needs is ncl/runtime.h and libnclrt: open the
 * library nclc produced, optionally change a parameter (with its unit, as
 * text), initialise, run 100 ms and read the recorded spikes back. Errors
 * come back as status codes with a message, never as a crash.
 *===----------------------------------------------------------------------===*/
#include "ncl/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, ncl_model *m) {
  fprintf(stderr, "ncl-embed-example: %s: %s\n", what, ncl_last_error());
  ncl_close(m);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s MODEL.so [POP.PARAM=VALUE]\n", argv[0]);
    return 2;
  }
  ncl_model *m = ncl_open(argv[1]);
  if (!m)
    return fail("cannot load the model", NULL);

  if (argc == 3) {
    /* "E.I=2.5nA" -> target "E.I", value "2.5nA" */
    char target[256];
    const char *eq = strchr(argv[2], '=');
    size_t len = eq ? (size_t)(eq - argv[2]) : 0;
    if (!eq || len >= sizeof target) {
      fprintf(stderr, "expected POP.PARAM=VALUE, got '%s'\n", argv[2]);
      ncl_close(m);
      return 2;
    }
    memcpy(target, argv[2], len);
    target[len] = '\0';
    if (ncl_set_param_str(m, target, eq + 1) != NCL_OK)
      return fail("cannot set the parameter", m);
  }

  if (ncl_init(m, ncl_default_seed(m)) != NCL_OK)
    return fail("cannot initialise", m);
  if (ncl_run(m, 0.100) != NCL_OK)
    return fail("the run failed", m);

  printf("model %s: %d population(s), dt = %g s, ran %lld steps\n", ncl_model_name(m),
         (int)ncl_num_populations(m), ncl_dt(m), (long long)ncl_current_step(m));
  for (int32_t p = 0; p < ncl_num_populations(m); ++p) {
    const char *name = ncl_population_name(m, p);
    printf("population %s: %lld neurons, %lld spikes\n", name,
           (long long)ncl_population_size(m, name), (long long)ncl_spike_count(m, name));

    /* Ask for the count first, then copy the first few spikes. */
    int64_t n = ncl_get_spikes(m, name, NULL, NULL, 0);
    if (n < 0) {
      printf("  (spikes not recorded)\n");
      continue;
    }
    enum { FIRST = 5 };
    double t[FIRST];
    int64_t idx[FIRST];
    int64_t shown = ncl_get_spikes(m, name, t, idx, FIRST);
    if (shown > FIRST)
      shown = FIRST;
    for (int64_t k = 0; k < shown; ++k)
      printf("  spike %lld: neuron %lld at t = %.4f ms\n", (long long)k, (long long)idx[k],
             t[k] * 1e3);
  }
  ncl_close(m);
  return 0;
}
