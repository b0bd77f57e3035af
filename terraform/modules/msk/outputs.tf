output "cluster_arn" {
  description = "ARN of the MSK cluster."
  value       = aws_msk_cluster.this.arn
}

output "cluster_name" {
  description = "Name of the MSK cluster (CloudWatch dimension \"Cluster Name\")."
  value       = aws_msk_cluster.this.cluster_name
}

output "bootstrap_brokers_sasl_scram" {
  description = "Bootstrap servers for SASL/SCRAM-SHA-512 over TLS (port 9096), comma-separated."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "scram_secret_arn" {
  description = "Secrets Manager secret (AmazonMSK_<name>) with the SCRAM username and password as JSON; an operator puts its value."
  value       = aws_secretsmanager_secret.scram.arn
}

output "scram_kms_key_arn" {
  description = "Customer-managed KMS key encrypting the SCRAM secret (readers of the secret need kms:Decrypt on it)."
  value       = aws_kms_key.scram.arn
}

output "security_group_id" {
  description = "Security group of the brokers."
  value       = aws_security_group.brokers.id
}
