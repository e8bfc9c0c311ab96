# The GPU AMI the GPU queues boot (their catalog `aws.imageId`): Buildkite's Elastic CI Stack AMI
# plus the NVIDIA driver and container toolkit, Docker's default runtime set to nvidia.
#
# Built on demand by an operator (see images/README.md): `npm run -s images -- gpu-vars` prints
# the catalog's facts (region, source AMI owner) as -var flags. Driver and toolkit are pinned here.

variable "region" {
  type        = string
  description = "Region of the GPU queues (from the catalog)."
}

variable "source_ami_owner" {
  type        = string
  description = "Account Buildkite publishes its AMIs from."
}

variable "source_ami_name" {
  type        = string
  default     = "buildkite-stack-linux-x86_64-2024-05-27T04-51-04Z-us-west-2"
  description = "The Elastic CI Stack AMI of the stack version the queues run (v6.21.0 in us-west-2), by name."
}

variable "instance_type" {
  type        = string
  default     = "g6.4xlarge"
  description = "An L4 machine, as the GPU queues run: the driver is installed and checked on the GPU it serves."
}

variable "nvidia_driver_version" {
  type        = string
  default     = "570.133.20"
  description = "NVIDIA data-center driver (CUDA 12.8, L4), installed from NVIDIA's runfile with DKMS."
}

variable "nvidia_container_toolkit_version" {
  type        = string
  default     = "1.17.8"
  description = "NVIDIA container toolkit, from NVIDIA's stable rpm repository."
}

variable "ami_name_prefix" {
  type        = string
  default     = "vllm-buildkite-stack-linux-gpu"
  description = "AMI names are <prefix>-<UTC timestamp>."
}

locals {
  stamp = regex_replace(timestamp(), "[-TZ:]", "")
}

source "amazon-ebs" "gpu" {
  ami_name        = "${var.ami_name_prefix}-${local.stamp}"
  ami_description = "vLLM Buildkite GPU AMI: Elastic CI Stack AMI with NVIDIA driver ${var.nvidia_driver_version} and container toolkit ${var.nvidia_container_toolkit_version}"
  region          = var.region
  instance_type   = var.instance_type

  source_ami_filter {
    filters = {
      architecture = "x86_64"
      name         = var.source_ami_name
    }
    owners      = [var.source_ami_owner]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 50
    volume_type           = "gp3"
    iops                  = 3000 # gp3's baseline, spelled out: older Packers require both
    throughput            = 125
    delete_on_termination = true
  }

  ssh_username = "ec2-user"
  ssh_timeout  = "30m"
}

build {
  sources = ["source.amazon-ebs.gpu"]

  provisioner "file" {
    source      = "${path.root}/files"
    destination = "/tmp/image-files"
  }

  provisioner "shell" {
    environment_vars = [
      "NVIDIA_DRIVER_VERSION=${var.nvidia_driver_version}",
      "NVIDIA_CONTAINER_TOOLKIT_VERSION=${var.nvidia_container_toolkit_version}",
    ]
    script = "${path.root}/scripts/install-nvidia.sh"
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
  }
}
