variable "name" {
  description = "Name of the ECS cluster and prefix of its resources."
  type        = string
}

variable "image" {
  description = "Helios container image (deploy/Dockerfile), e.g. <account>.dkr.ecr.<region>.amazonaws.com/helios:1.0.0."
  type        = string
}

variable "config_yaml" {
  description = "helios.config.yaml for every role; $${NAME} and $${urlencode:NAME} are replaced from the task environment at start."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks (and of an internal load balancer)."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Subnets of an internet-facing load balancer."
  type        = list(string)
}

variable "internal_load_balancer" {
  description = "Keep the gateway's load balancer inside the VPC."
  type        = bool
  default     = true
}

variable "ingress_cidrs" {
  description = "CIDRs allowed to send events over HTTPS."
  type        = list(string)
}

variable "metrics_scrape_cidrs" {
  description = "CIDRs of Prometheus servers allowed to scrape the tasks' /metrics."
  type        = list(string)
  default     = []
}

variable "certificate_arn" {
  description = "ACM certificate of the gateway's HTTPS listener."
  type        = string
}

variable "msk_cluster_name" {
  description = "Name of the MSK cluster (CloudWatch dimension of the lag metrics)."
  type        = string
}

variable "kafka_bootstrap_brokers" {
  description = "MSK bootstrap servers for SASL/SCRAM over TLS (port 9096), comma-separated; passed to every task as HELIOS_KAFKA_BROKERS."
  type        = string
}

variable "kafka_scram_secret_arn" {
  description = "Secrets Manager secret (AmazonMSK_<name>) with the SCRAM username and password as JSON; injected as HELIOS_KAFKA_SASL_USERNAME and HELIOS_KAFKA_SASL_PASSWORD."
  type        = string
}

variable "kafka_scram_kms_key_arn" {
  description = "KMS key encrypting the SCRAM secret (the execution role may decrypt with it through Secrets Manager only)."
  type        = string
}

variable "db_address" {
  description = "Host name of the PostgreSQL instance."
  type        = string
}

variable "db_name" {
  description = "Database Helios uses."
  type        = string
}

variable "db_secret_arn" {
  description = "Secrets Manager secret with the database username and password (JSON)."
  type        = string
}

variable "api_keys_secret_arn" {
  description = "Secrets Manager secret with the gateway API keys."
  type        = string
}

variable "llm_api_key_secret_arn" {
  description = "Secrets Manager secret with the LLM API key."
  type        = string
}

variable "reports_bucket_name" {
  description = "S3 bucket of the reports."
  type        = string
}

variable "reports_bucket_arn" {
  description = "ARN of the reports bucket (the report role may write to it; no other role may)."
  type        = string
}

variable "roles" {
  description = "Size and scaling bounds of each role's service."
  type = map(object({
    cpu       = number
    memory    = number
    min_count = number
    max_count = number
  }))
  validation {
    condition     = alltrue([for r in ["gateway", "storage", "detect", "report"] : contains(keys(var.roles), r)])
    error_message = "roles must define gateway, storage, detect and report."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU each service is scaled to keep."
  type        = number
  default     = 60
}

variable "lag_per_task_target" {
  description = "Consumer lag per worker task the lag policy keeps (records)."
  type        = number
  default     = 2000
}

variable "log_retention_days" {
  description = "Retention of the task logs, days."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
