# The Amazon plugin, pinned. Its own file because Debian's packer (1.6.6, which the tests run
# `packer validate` with, offline) bundles the amazon builders and predates `required_plugins`;
# the rebuild pipeline's packer (`packer init` + `packer build` on this folder) reads it.
packer {
  required_plugins {
    amazon = {
      version = "= 1.3.2"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
