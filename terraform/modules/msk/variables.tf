variable "name" {
  description = "Cluster name."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the brokers."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, one broker per subnet in turn (broker_count must be a multiple of their number)."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach the brokers (the Helios tasks)."
  type        = list(string)
}

variable "kafka_version" {
  description = "Apache Kafka version of the cluster."
  type        = string
  default     = "3.6.0"
}

variable "broker_count" {
  description = "Number of brokers."
  type        = number
  default     = 3
}

variable "instance_type" {
  description = "Broker instance type."
  type        = string
  default     = "kafka.m5.large"
}

variable "volume_size_gb" {
  description = "EBS storage per broker, GiB."
  type        = number
  default     = 100
}

variable "retention_hours" {
  description = "Default log retention, hours."
  type        = number
  default     = 168
}

variable "enhanced_monitoring" {
  description = "MSK CloudWatch monitoring level; consumer lag per group and topic (SumOffsetLag) drives worker autoscaling."
  type        = string
  default     = "PER_TOPIC_PER_BROKER"
}

variable "log_retention_days" {
  description = "Retention of the broker logs in CloudWatch, days."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "secret_recovery_window_days" {
  description = "Days the deleted SCRAM secret can be restored (0: delete at once, dev only; a secret waiting for deletion blocks re-creating its name)."
  type        = number
  default     = 30
}

variable "kms_deletion_window_days" {
  description = "Days before the SCRAM secret's KMS key is deleted after destroy (7 to 30)."
  type        = number
  default     = 30
}
