output "gateway_url" {
  description = "Where applications send events."
  value       = module.helios.gateway_url
}

output "reports_bucket" {
  description = "Bucket the S3 reporter writes to."
  value       = module.reports_bucket.bucket_name
}

output "kafka_bootstrap_brokers" {
  description = "MSK bootstrap servers (SASL/SCRAM-SHA-512 over TLS, port 9096)."
  value       = module.msk.bootstrap_brokers_sasl_scram
}

output "database_address" {
  description = "PostgreSQL host."
  value       = module.rds.address
}

output "secrets_to_fill" {
  description = "Secrets an operator puts values into before the first deploy."
  value       = { api_keys = module.secrets.api_keys_secret_arn, llm_api_key = module.secrets.llm_api_key_secret_arn, kafka_scram = module.msk.scram_secret_arn }
}
