/* Prints what a model library's descriptor says about the GPU (docs/gpu.md):
 * its images and each stage's GPU kernel; writes image k to DIR/image<k>.ptx
 * or .cubin when DIR is given. usage: ncl-gpu-descriptor model.so [DIR] */
#include "ncl/model_abi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s model.so [DIR]\n", argv[0]);
    return 2;
  }
  void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    fprintf(stderr, "cannot open %s: %s\n", argv[1], dlerror());
    return 1;
  }
  const ncl_model_descriptor *model =
      (const ncl_model_descriptor *)dlsym(library, NCL_MODEL_SYMBOL);
  if (!model || model->abi_version != NCL_ABI_VERSION) {
    fprintf(stderr, "%s: no ncl_model of ABI %u\n", argv[1], NCL_ABI_VERSION);
    return 1;
  }
  printf("images %d%s\n", model->num_gpu_images, model->gpu_images ? "" : " (null)");
  for (int i = 0; i < model->num_gpu_images; ++i) {
    const ncl_gpu_image *image = &model->gpu_images[i];
    const char *data = (const char *)image->data;
    int text = image->format == NCL_GPU_PTX;
    /* PTX is NUL-terminated, its size without the NUL. */
    if (text && (data[image->size] != '\0' || strlen(data) != (size_t)image->size)) {
      fprintf(stderr, "image %d: PTX size %lld is not its length\n", i, (long long)image->size);
      return 1;
    }
    printf("image %s %s %lld\n", image->arch,
           text                             ? "ptx"
           : image->format == NCL_GPU_CUBIN ? "cubin"
                                            : "?",
           (long long)image->size);
    if (argc > 2) {
      char path[4096];
      snprintf(path, sizeof path, "%s/image%d.%s", argv[2], i, text ? "ptx" : "cubin");
      FILE *out = fopen(path, "wb");
      if (!out || fwrite(data, 1, (size_t)image->size, out) != (size_t)image->size || fclose(out)) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
      }
    }
  }
  for (int i = 0; i < model->num_stages; ++i) {
    const int32_t projection = model->stages[i].projection;
    printf("stage %s %s %d %d %d\n", model->stages[i].name,
           model->stages[i].gpu_kernel ? model->stages[i].gpu_kernel : "-",
           (int)model->stages[i].gpu_launch, (int)model->stages[i].kind,
           projection >= 0 ? (int)model->projections[projection].num_pre_traces : 0);
  }
  return 0;
}
