// internal.h - what emu/sched.cpp and emu/mem.cpp share (not for kernel code).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace nk::emu::detail {

// Copies of every live allocation, for the differential (forward vs reverse) run.
struct Snapshot {
  struct Block {
    unsigned char* ptr;
    std::vector<unsigned char> bytes;
  };
  std::vector<Block> blocks;
};
Snapshot snapshot_all();
void restore(const Snapshot& s);
// Compares live memory with `first` (what the first run wrote); "" when equal. With float_tolerance the
// bytes are read as float32 and compared with a relative tolerance (float atomics reorder sums).
std::string compare_with(const Snapshot& first, bool float_tolerance);

bool is_device_pointer(const void* p);  // null, or inside (or one past) a live allocation
std::string check_canaries();           // "" or what was overwritten around a guarded allocation
std::string describe_address(const void* addr);  // "" if the address is not near any allocation
void record_error(const std::string& what);      // a pending error reported at the next check

}  // namespace nk::emu::detail
