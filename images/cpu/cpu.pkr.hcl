# The warm-cache CPU build AMI: Buildkite's Elastic CI Stack AMI, plus BuildKit as a systemd
# service whose store is filled from the build cache of the latest postmerge image, so the first
# image build on a fresh instance starts warm.
#
# The pipeline (images/rebuild-pipeline.yml, generated from the catalog) passes every fact it
# owns: the region, the source AMI and its owner, the builder's network, the AMI name prefix the
# pruning step matches, the cache to warm from. Defaults are only for what belongs to the image.

variable "region" {
  type        = string
  description = "Region of the AMI-build queue and of the queues that boot the AMI."
}

variable "source_ami" {
  type        = string
  description = "The Elastic CI Stack AMI of the stack version the queues run (its template's AWSRegion2AMI mapping)."
}

variable "source_ami_owner" {
  type        = string
  description = "Account Buildkite publishes its AMIs from: Packer refuses a source AMI of any other owner."
}

variable "security_group_id" {
  type        = string
  description = "The builder's security group (SSH from the VPC), read from its SSM parameter."
}

variable "subnet_id" {
  type        = string
  description = "The builder's subnet, read from its SSM parameter."
}

variable "ami_name_prefix" {
  type        = string
  description = "AMI names are <prefix>-<UTC timestamp>; the pruning step keeps the newest of this prefix."
}

variable "instance_type" {
  type        = string
  default     = "r6in.large"
  description = "The builder: network-optimized, the warm-up is mostly layer downloads."
}

variable "warm_cache_context" {
  type        = string
  description = "Folder prepared by the pipeline: vllm/ (the checkout of the postmerge commit) and bake-config.json (that build's bake file)."
}

variable "cache_registry" {
  type        = string
  description = "Private ECR registry of the build cache, <account>.dkr.ecr.<region>.amazonaws.com."
}

variable "cache_ref" {
  type        = string
  description = "The registry cache the warm-up reads, <registry>/<repository>:<commit>."
}

variable "ecr_token" {
  type        = string
  sensitive   = true
  description = "ECR login token for the cache; passed as PKR_VAR_ecr_token (never on a command line), logged out before the snapshot."
}

variable "buildkit_image" {
  type        = string
  default     = "moby/buildkit:buildx-stable-1"
  description = "Image the buildkitd binary is taken from (the tag docker buildx uses)."
}

variable "buildkit_max_parallelism" {
  type        = number
  default     = 32
  description = "BuildKit's max-parallelism: the build queues run r6in.16xlarge (64 vCPUs)."
}

variable "manifest_path" {
  type        = string
  default     = "manifest.json"
  description = "Where Packer writes the id of the AMI it made (the pipeline reads it)."
}

locals {
  # 20250102T110000Z -> 20250102110000: sortable, and valid in an AMI name.
  stamp = regex_replace(timestamp(), "[-TZ:]", "")
}

source "amazon-ebs" "cpu_build" {
  ami_name        = "${var.ami_name_prefix}-${local.stamp}"
  ami_description = "vLLM Buildkite CPU build AMI: Elastic CI Stack AMI with BuildKit and a warm build cache"
  region          = var.region
  instance_type   = var.instance_type

  source_ami_filter {
    filters = {
      image-id = var.source_ami
    }
    owners      = [var.source_ami_owner]
    most_recent = true
  }

  # The image's root volume: the size the build queues boot with, gp3 fast enough for the warm-up.
  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 512
    volume_type           = "gp3"
    iops                  = 6000
    throughput            = 500
    delete_on_termination = true
  }

  security_group_id           = var.security_group_id
  subnet_id                   = var.subnet_id
  associate_public_ip_address = true # the builder pulls from public registries; no NAT in the VPC
  ssh_interface               = "private_ip"
  ssh_username                = "ec2-user"
  ssh_timeout                 = "30m"
  # No `tags`: Packer would tag the AMI after creating it, which the build queue's
  # CreateTags grant (only while creating) refuses.
}

build {
  sources = ["source.amazon-ebs.cpu_build"]

  provisioner "file" {
    source      = "${path.root}/files"
    destination = "/tmp/image-files"
  }

  provisioner "file" {
    source      = "${path.root}/scripts"
    destination = "/tmp/image-scripts"
  }

  provisioner "file" {
    source      = var.warm_cache_context
    destination = "/tmp/warm-cache"
  }

  provisioner "shell" {
    environment_vars = [
      "BUILDKIT_IMAGE=${var.buildkit_image}",
      "BUILDKIT_MAX_PARALLELISM=${var.buildkit_max_parallelism}",
    ]
    inline = ["bash /tmp/image-scripts/install-buildkit.sh"]
  }

  provisioner "shell" {
    environment_vars = [
      "ECR_TOKEN=${var.ecr_token}",
      "CACHE_REGISTRY=${var.cache_registry}",
      "CACHE_REF=${var.cache_ref}",
    ]
    # Written to a file on the builder and sourced, so the token is on no command line.
    use_env_var_file = true
    # As the agent's user: its buildx builder is the one jobs use.
    inline = ["sudo --preserve-env=ECR_TOKEN,CACHE_REGISTRY,CACHE_REF -u buildkite-agent -H bash /tmp/image-scripts/warm-cache.sh /tmp/warm-cache"]
  }

  provisioner "shell" {
    inline = ["bash /tmp/image-scripts/seal.sh"]
  }

  post-processor "manifest" {
    output     = var.manifest_path
    strip_path = true
  }
}
