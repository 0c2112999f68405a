// emu_control.cpp - Python control of the CPU emulator (neurokern._cuda_emu only; nk.cuda wraps these).
//   emu_set_check(bool) / emu_get_check()          checking mode: guard pages + canaries + SIGSEGV turned
//                                                  into errors, pointer-argument checks, poisoned memory,
//                                                  strict barrier sites, forward-vs-reverse differential run
//   emu_set_differential(bool) / emu_get_differential()   the differential run inside checking mode (default on)
//   emu_set_schedule("forward"|"reverse") / emu_get_schedule()   thread and block order outside checking mode
//   emu_set_fiber_backend("asm"|"ucontext") / emu_get_fiber_backend()   context switch (asm: x86-64 only)
//   emu_live_allocations()                          number of live device allocations (leak checks)
// Allocations made while checking mode is on are guarded; turn it on before creating tensors.
#ifdef NK_EMU
#include "bindings/cuda/registry.h"
#include "cuda/emu/emu.h"

NK_CUDA_BINDING(emu_control) {
  m.def("emu_set_check", &nk::emu::set_check, py::arg("on"));
  m.def("emu_get_check", &nk::emu::get_check);
  m.def("emu_set_differential", &nk::emu::set_differential, py::arg("on"));
  m.def("emu_get_differential", &nk::emu::get_differential);
  m.def("emu_set_schedule", &nk::emu::set_schedule, py::arg("order"));
  m.def("emu_get_schedule", &nk::emu::get_schedule);
  m.def("emu_set_fiber_backend", &nk::emu::set_fiber_backend, py::arg("name"));
  m.def("emu_get_fiber_backend", &nk::emu::get_fiber_backend);
  m.def("emu_live_allocations", &nk::emu::mem_live_count);
}
#endif
