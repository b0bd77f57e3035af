output "gateway_url" {
  description = "Where applications send events."
  value       = module.stack.gateway_url
}

output "reports_bucket" {
  description = "Bucket the S3 reporter writes to."
  value       = module.stack.reports_bucket
}

output "kafka_bootstrap_brokers" {
  description = "MSK bootstrap servers (SASL/SCRAM-SHA-512 over TLS, port 9096)."
  value       = module.stack.kafka_bootstrap_brokers
}

output "database_address" {
  description = "PostgreSQL host."
  value       = module.stack.database_address
}

output "secrets_to_fill" {
  description = "Secrets an operator puts values into before the first deploy."
  value       = module.stack.secrets_to_fill
}
