output "api_keys_secret_arn" {
  description = "ARN of the gateway API keys secret."
  value       = aws_secretsmanager_secret.api_keys.arn
}

output "llm_api_key_secret_arn" {
  description = "ARN of the LLM API key secret."
  value       = aws_secretsmanager_secret.llm_api_key.arn
}
