// device.h - where a Tensor's storage lives. Only 'cpu' exists in _core; 'cuda' storage is
// allocated by the separate _cuda module so that a CPU-only machine never needs libcudart.
#pragma once
#include <string>

namespace nk {

enum class DeviceType : int { cpu = 0, cuda = 1 };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
};

Device parse_device(const std::string& name);  // "cpu", "cuda", "cuda:1"; throws ValueError otherwise

}  // namespace nk
