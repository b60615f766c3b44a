#include "thumbfetch/cli/cli.hpp"

int main(int argc, char** argv) {
  return thumbfetch::run_cli(argc, argv);
}
