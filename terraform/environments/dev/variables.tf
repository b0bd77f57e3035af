variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "image" {
  description = "Helios image built from deploy/Dockerfile and pushed to ECR."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for the gateway's HTTPS listener."
  type        = string
}

variable "ingress_cidrs" {
  description = "CIDRs allowed to send events to the gateway."
  type        = list(string)
}

variable "internal_load_balancer" {
  description = "Keep the gateway inside the VPC (senders reach it through peering or VPN)."
  type        = bool
  default     = true
}

variable "bucket_suffix" {
  description = "Suffix making the reports bucket name globally unique (e.g. the account id)."
  type        = string
}
