// wsgictl: the command-line client of wsgid's control API. See ctl/wsgictl.h.
#include <string>
#include <vector>

#include "ctl/wsgictl.h"

int main(int argc, char** argv) {
  return wsgid::ctl::Main(std::vector<std::string>(argv + 1, argv + argc));
}
