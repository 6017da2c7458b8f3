// SPDX-License-Identifier: MIT
// LD_PRELOAD shim for the hot-path allocation test: counts malloc-family calls made by hftd's
// worker threads (named hft-net and hft-strategy) after a warm-up, and writes the counts to
// $HFT_ALLOC_REPORT when the process exits.
#include <sys/prctl.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

std::atomic<unsigned long> gWorkerAfter{0};
std::atomic<unsigned long> gWorkerBefore{0};
std::atomic<unsigned long> gOther{0};
unsigned long long gWarmupEndNs = 0;

// 0 unknown, 1 worker, 2 other. initial-exec: no allocation to reach it from malloc.
__thread int tKind __attribute__((tls_model("initial-exec"))) = 0;

unsigned long long nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000000ULL +
         static_cast<unsigned long long>(ts.tv_nsec);
}

void count() {
  if (tKind == 0) {
    char name[16] = {};
    prctl(PR_GET_NAME, name, 0, 0, 0);
    // Workers name themselves first thing; before that a thread is still "hftd".
    if (std::strcmp(name, "hft-net") == 0 || std::strcmp(name, "hft-strategy") == 0)
      tKind = 1;
    else if (std::strcmp(name, "hftd") != 0)
      tKind = 2;
    else {
      gOther.fetch_add(1, std::memory_order_relaxed);
      return; // not decided yet: ask again next time
    }
  }
  if (tKind == 1) {
    if (gWarmupEndNs && nowNs() >= gWarmupEndNs)
      gWorkerAfter.fetch_add(1, std::memory_order_relaxed);
    else
      gWorkerBefore.fetch_add(1, std::memory_order_relaxed);
  } else {
    gOther.fetch_add(1, std::memory_order_relaxed);
  }
}

__attribute__((constructor)) void start() {
  const char* warmup = std::getenv("HFT_ALLOC_WARMUP_MS");
  gWarmupEndNs = nowNs() + (warmup ? std::strtoull(warmup, nullptr, 10) : 2000ULL) * 1000000ULL;
}

__attribute__((destructor)) void report() {
  const char* path = std::getenv("HFT_ALLOC_REPORT");
  if (!path)
    return;
  if (FILE* f = std::fopen(path, "w")) {
    std::fprintf(f,
                 "{\"worker_after_warmup\": %lu, \"worker_during_warmup\": %lu, \"other\": %lu}\n",
                 gWorkerAfter.load(), gWorkerBefore.load(), gOther.load());
    std::fclose(f);
  }
}

} // namespace

extern "C" {
void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  count();
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t a, std::size_t n) {
  count();
  return __libc_memalign(a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  count();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, std::size_t a, std::size_t n) {
  count();
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;
}
void free(void* p) { __libc_free(p); }
}
