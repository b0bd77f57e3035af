variable "name" {
  description = "Identifier of the instance and prefix of its resources."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the DB subnet group."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the Helios tasks)."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL version (major.minor)."
  type        = string
  default     = "15.7"
}

variable "instance_class" {
  description = "Instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  description = "Initial storage, GiB."
  type        = number
  default     = 100
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling, GiB."
  type        = number
  default     = 500
}

variable "database_name" {
  description = "Database Helios uses."
  type        = string
  default     = "helios"
}

variable "username" {
  description = "Master user name (its password is managed by RDS in Secrets Manager)."
  type        = string
  default     = "helios"
}

variable "multi_az" {
  description = "Standby in a second AZ."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Automated backup retention, days."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse deletion (and take a final snapshot); on in prod."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
