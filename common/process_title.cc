#include "common/process_title.h"

#include <sys/prctl.h>

#include <cstdlib>
#include <cstring>

extern char** environ;

namespace wsgid {
namespace {

// Moves the environment strings to the heap, so their memory can hold the
// title; getenv reads the copies.
void CopyEnvironment() {
  size_t n = 0;
  while (environ != nullptr && environ[n] != nullptr) ++n;
  char** copy = new char*[n + 1];  // lives as long as the process
  for (size_t i = 0; i < n; ++i) copy[i] = ::strdup(environ[i]);
  copy[n] = nullptr;
  environ = copy;
}

}  // namespace

void SetProcessTitle(char** argv, const std::string& title) {
  if (argv == nullptr || argv[0] == nullptr) return;
  char* start = argv[0];
  char* end = start + std::strlen(start) + 1;
  for (int i = 1; argv[i] != nullptr; ++i)
    if (argv[i] == end) end = argv[i] + std::strlen(argv[i]) + 1;
  if (static_cast<size_t>(end - start) <= title.size() && environ != nullptr) {
    char* env_end = end;
    for (int i = 0; environ[i] != nullptr; ++i)
      if (environ[i] == env_end)
        env_end = environ[i] + std::strlen(environ[i]) + 1;
    if (env_end != end) {
      CopyEnvironment();
      end = env_end;
    }
  }
  size_t room = static_cast<size_t>(end - start);
  size_t n = title.size() < room ? title.size() : room - 1;
  std::memcpy(start, title.data(), n);
  std::memset(start + n, 0, room - n);
  ::prctl(PR_SET_NAME, title.substr(0, 15).c_str(), 0, 0, 0);
}

}  // namespace wsgid
