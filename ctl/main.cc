// wsgictl: the command-line client of wsgid's control API. This first version only
// reports its version; the control API arrives with the control plane.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "version") == 0 || std::strcmp(argv[1], "--version") == 0)) {
    std::printf("wsgictl %s\n", WSGID_VERSION);
    return 0;
  }
  std::fprintf(stderr, "usage: wsgictl version\n(the control API is not available yet)\n");
  return 2;
}
