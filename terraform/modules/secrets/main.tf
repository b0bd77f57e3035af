# Secrets Helios reads at start: the gateway's API keys and the LLM provider key. Terraform creates
# the containers only; values are put by an operator (aws secretsmanager put-secret-value), so they
# never enter the Terraform state.
resource "aws_secretsmanager_secret" "api_keys" {
  name                    = "${var.name}/gateway-api-keys"
  description             = "Helios gateway API keys: JSON list of {key, tenant} (gateway.auth.keys)"
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret" "llm_api_key" {
  name                    = "${var.name}/llm-api-key"
  description             = "API key of the OpenAI-compatible LLM used by the LLM reporter"
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}
