/* The x86-64 microarchitecture level this CPU and OS run: 4 (AVX-512), 3 (AVX2 +
   FMA), else 1; the checks include the OS's saving of the vector registers. The
   kernel dispatcher (dispatch.py) reads it before loading an instruction-set-specific
   kernel set. Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_CPU_H
#define FL_CPU_H

#if defined(__x86_64__) && defined(__GNUC__) && (__GNUC__ >= 12 || defined(__clang__))
static inline int fl_cpu_x86_64_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 4;
    return __builtin_cpu_supports("x86-64-v3") ? 3 : 1;
}
#else
static inline int fl_cpu_x86_64_level(void) { return 1; }
#endif

/* The vector width, in bits, this module's loops were compiled for (meson.build passes
   it with the kernel set's flags); 0 when the build did not say. */
#ifndef FL_VECTOR_BITS
#define FL_VECTOR_BITS 0
#endif

#endif /* FL_CPU_H */
