variable "name" {
  description = "Prefix of every resource name, e.g. helios-prod."
  type        = string
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
}

variable "az_count" {
  description = "Availability zones the VPC spans."
  type        = number
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, not zone-redundant)."
  type        = bool
}

variable "image" {
  description = "Helios image built from deploy/Dockerfile and pushed to ECR."
  type        = string
}

variable "config_yaml" {
  description = "The helios.config.yaml every role starts with (secrets filled in from the task environment)."
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
}

variable "bucket_suffix" {
  description = "Suffix making the reports bucket name globally unique (e.g. the account id)."
  type        = string
}

variable "secrets_recovery_window_days" {
  description = "Days a deleted secret can be restored (0 deletes at once)."
  type        = number
}

variable "reports_force_destroy" {
  description = "Allow destroying the reports bucket with reports in it."
  type        = bool
}

variable "msk_broker_count" {
  description = "MSK brokers (a multiple of the zone count)."
  type        = number
}

variable "msk_instance_type" {
  description = "MSK broker instance type."
  type        = string
}

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class."
  type        = string
}

variable "db_multi_az" {
  description = "RDS standby in a second zone."
  type        = bool
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database."
  type        = bool
}

variable "roles" {
  description = "CPU, memory and task counts per Helios role (gateway, storage, detect, report)."
  type        = map(object({ cpu = number, memory = number, min_count = number, max_count = number }))
}
