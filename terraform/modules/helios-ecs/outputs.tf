output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "gateway_url" {
  description = "HTTPS address of the gateway's load balancer."
  value       = "https://${aws_lb.gateway.dns_name}"
}

output "tasks_security_group_id" {
  description = "Security group of the Helios tasks (allowed into MSK and RDS)."
  value       = aws_security_group.tasks.id
}

output "task_role_arns" {
  description = "IAM role of each Helios role's tasks."
  value       = { for k, r in aws_iam_role.task : k => r.arn }
}
