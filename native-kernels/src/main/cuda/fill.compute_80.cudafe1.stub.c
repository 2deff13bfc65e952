#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wcast-qual"
#define __NV_CUBIN_HANDLE_STORAGE__ static
#if !defined(__CUDA_INCLUDE_COMPILER_INTERNAL_HEADERS__)
#define __CUDA_INCLUDE_COMPILER_INTERNAL_HEADERS__
#endif
#include "crt/host_runtime.h"
#include "fill.fatbin.c"
extern __attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_f32Pffl(float *, float, int64_t);
extern __attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_f64Pddl(double *, double, int64_t);
extern __attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_i32Piil(int32_t *, int32_t, int64_t);
extern __attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_i64Plll(int64_t *, int64_t, int64_t);
extern __attribute__((visibility("hidden"))) void __device_stub__Z13ember_fill_u8Phhl(uint8_t *, uint8_t, int64_t);
extern __attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_f16Pttl(uint16_t *, uint16_t, int64_t);
extern __attribute__((visibility("hidden"))) void __device_stub__Z15ember_fill_bf16Pttl(uint16_t *, uint16_t, int64_t);
static void __nv_cudaEntityRegisterCallback(void **);
static void __sti____cudaRegisterAll(void) __attribute__((__constructor__));
__attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_f32Pffl(float *__par0, float __par1, int64_t __par2){__cudaLaunchPrologue(3);__cudaSetupArgSimple(__par0, 0UL);__cudaSetupArgSimple(__par1, 8UL);__cudaSetupArgSimple(__par2, 16UL);__cudaLaunch(((char *)((void ( *)(float *, float, int64_t))ember_fill_f32)), 0U);}
# 71 "fill.cu"
void ember_fill_f32( float *__cuda_0,float __cuda_1,::int64_t __cuda_2)
# 71 "fill.cu"
{__device_stub__Z14ember_fill_f32Pffl( __cuda_0,__cuda_1,__cuda_2);

}
# 1 "fill.compute_80.cudafe1.stub.c"
__attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_f64Pddl( double *__par0,  double __par1,  int64_t __par2) {  __cudaLaunchPrologue(3); __cudaSetupArgSimple(__par0, 0UL); __cudaSetupArgSimple(__par1, 8UL); __cudaSetupArgSimple(__par2, 16UL); __cudaLaunch(((char *)((void ( *)(double *, double, int64_t))ember_fill_f64)), 0U); }
# 75 "fill.cu"
void ember_fill_f64( double *__cuda_0,double __cuda_1,::int64_t __cuda_2)
# 75 "fill.cu"
{__device_stub__Z14ember_fill_f64Pddl( __cuda_0,__cuda_1,__cuda_2);


}
# 1 "fill.compute_80.cudafe1.stub.c"
__attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_i32Piil( int32_t *__par0,  int32_t __par1,  int64_t __par2) {  __cudaLaunchPrologue(3); __cudaSetupArgSimple(__par0, 0UL); __cudaSetupArgSimple(__par1, 8UL); __cudaSetupArgSimple(__par2, 16UL); __cudaLaunch(((char *)((void ( *)(int32_t *, int32_t, int64_t))ember_fill_i32)), 0U); }
# 80 "fill.cu"
void ember_fill_i32( ::int32_t *__cuda_0,::int32_t __cuda_1,::int64_t __cuda_2)
# 80 "fill.cu"
{__device_stub__Z14ember_fill_i32Piil( __cuda_0,__cuda_1,__cuda_2);

}
# 1 "fill.compute_80.cudafe1.stub.c"
__attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_i64Plll( int64_t *__par0,  int64_t __par1,  int64_t __par2) {  __cudaLaunchPrologue(3); __cudaSetupArgSimple(__par0, 0UL); __cudaSetupArgSimple(__par1, 8UL); __cudaSetupArgSimple(__par2, 16UL); __cudaLaunch(((char *)((void ( *)(int64_t *, int64_t, int64_t))ember_fill_i64)), 0U); }
# 84 "fill.cu"
void ember_fill_i64( ::int64_t *__cuda_0,::int64_t __cuda_1,::int64_t __cuda_2)
# 84 "fill.cu"
{__device_stub__Z14ember_fill_i64Plll( __cuda_0,__cuda_1,__cuda_2);

}
# 1 "fill.compute_80.cudafe1.stub.c"
__attribute__((visibility("hidden"))) void __device_stub__Z13ember_fill_u8Phhl( uint8_t *__par0,  uint8_t __par1,  int64_t __par2) {  __cudaLaunchPrologue(3); __cudaSetupArgSimple(__par0, 0UL); __cudaSetupArgSimple(__par1, 8UL); __cudaSetupArgSimple(__par2, 16UL); __cudaLaunch(((char *)((void ( *)(uint8_t *, uint8_t, int64_t))ember_fill_u8)), 0U); }
# 88 "fill.cu"
void ember_fill_u8( ::uint8_t *__cuda_0,::uint8_t __cuda_1,::int64_t __cuda_2)
# 88 "fill.cu"
{__device_stub__Z13ember_fill_u8Phhl( __cuda_0,__cuda_1,__cuda_2);

}
# 1 "fill.compute_80.cudafe1.stub.c"
__attribute__((visibility("hidden"))) void __device_stub__Z14ember_fill_f16Pttl( uint16_t *__par0,  uint16_t __par1,  int64_t __par2) {  __cudaLaunchPrologue(3); __cudaSetupArgSimple(__par0, 0UL); __cudaSetupArgSimple(__par1, 8UL); __cudaSetupArgSimple(__par2, 16UL); __cudaLaunch(((char *)((void ( *)(uint16_t *, uint16_t, int64_t))ember_fill_f16)), 0U); }
# 92 "fill.cu"
void ember_fill_f16( ::uint16_t *__cuda_0,::uint16_t __cuda_1,::int64_t __cuda_2)
# 92 "fill.cu"
{__device_stub__Z14ember_fill_f16Pttl( __cuda_0,__cuda_1,__cuda_2);

}
# 1 "fill.compute_80.cudafe1.stub.c"
__attribute__((visibility("hidden"))) void __device_stub__Z15ember_fill_bf16Pttl( uint16_t *__par0,  uint16_t __par1,  int64_t __par2) {  __cudaLaunchPrologue(3); __cudaSetupArgSimple(__par0, 0UL); __cudaSetupArgSimple(__par1, 8UL); __cudaSetupArgSimple(__par2, 16UL); __cudaLaunch(((char *)((void ( *)(uint16_t *, uint16_t, int64_t))ember_fill_bf16)), 0U); }
# 96 "fill.cu"
void ember_fill_bf16( ::uint16_t *__cuda_0,::uint16_t __cuda_1,::int64_t __cuda_2)
# 96 "fill.cu"
{__device_stub__Z15ember_fill_bf16Pttl( __cuda_0,__cuda_1,__cuda_2);

}
# 1 "fill.compute_80.cudafe1.stub.c"
static void __nv_cudaEntityRegisterCallback( void **__T37) {  __nv_dummy_param_ref(__T37); __nv_save_fatbinhandle_for_managed_rt(__T37); __cudaRegisterEntry(__T37, ((void ( *)(uint16_t *, uint16_t, int64_t))ember_fill_bf16), ember_fill_bf16, (-1)); __cudaRegisterEntry(__T37, ((void ( *)(uint16_t *, uint16_t, int64_t))ember_fill_f16), ember_fill_f16, (-1)); __cudaRegisterEntry(__T37, ((void ( *)(uint8_t *, uint8_t, int64_t))ember_fill_u8), ember_fill_u8, (-1)); __cudaRegisterEntry(__T37, ((void ( *)(int64_t *, int64_t, int64_t))ember_fill_i64), ember_fill_i64, (-1)); __cudaRegisterEntry(__T37, ((void ( *)(int32_t *, int32_t, int64_t))ember_fill_i32), ember_fill_i32, (-1)); __cudaRegisterEntry(__T37, ((void ( *)(double *, double, int64_t))ember_fill_f64), ember_fill_f64, (-1)); __cudaRegisterEntry(__T37, ((void ( *)(float *, float, int64_t))ember_fill_f32), ember_fill_f32, (-1)); }
static void __sti____cudaRegisterAll(void) {  __cudaRegisterBinary(__nv_cudaEntityRegisterCallback);  }

#pragma GCC diagnostic pop
