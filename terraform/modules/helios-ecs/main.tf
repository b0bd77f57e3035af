# Helios on ECS Fargate: one image, one service per role, all on the Kafka bus (MSK, SASL/SCRAM over
# TLS). The gateway (`up --role gateway`) sits behind an internal or public ALB and scales on CPU; the
# workers (`worker --role storage|detect|report`) scale on CPU and on their consumer group's lag on MSK
# (CloudWatch AWS/Kafka SumOffsetLag).
data "aws_region" "current" {}

locals {
  roles = {
    gateway = { command = ["up", "--role", "gateway"], consumer_group = null, topic = null, port = 8080 }
    storage = { command = ["worker", "--role", "storage"], consumer_group = "helios-storage", topic = "helios.events", port = 8080 }
    detect  = { command = ["worker", "--role", "detect"], consumer_group = "helios-detect", topic = "helios.events", port = 8080 }
    report  = { command = ["worker", "--role", "report"], consumer_group = "helios-report", topic = "helios.anomalies", port = 8080 }
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Helios tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "tasks_all" {
  security_group_id = aws_security_group.tasks.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  description       = "MSK, RDS, S3, Secrets Manager, the LLM API"
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  description                  = "Gateway from the load balancer"
}

resource "aws_vpc_security_group_ingress_rule" "metrics_from_scrapers" {
  for_each          = toset(var.metrics_scrape_cidrs)
  security_group_id = aws_security_group.tasks.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
  description       = "Prometheus scraping /metrics"
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Helios gateway load balancer"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = toset(var.ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS from event senders"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  description                  = "To the gateway tasks"
}

resource "aws_lb" "gateway" {
  name               = "${var.name}-gw"
  load_balancer_type = "application"
  internal           = var.internal_load_balancer
  subnets            = var.internal_load_balancer ? var.private_subnet_ids : var.public_subnet_ids
  security_groups    = [aws_security_group.alb.id]
  tags               = var.tags
}

resource "aws_lb_target_group" "gateway" {
  name                 = "${var.name}-gw"
  port                 = 8080
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  health_check {
    path    = "/readyz"
    matcher = "200"
  }
  tags = var.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.gateway.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.gateway.arn
  }
}

resource "aws_cloudwatch_log_group" "role" {
  for_each          = local.roles
  name              = "/helios/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# Execution role: pulls the image, writes logs, and reads exactly the secrets injected into containers.
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution_managed" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    sid       = "InjectedSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.db_secret_arn, var.api_keys_secret_arn, var.llm_api_key_secret_arn, var.kafka_scram_secret_arn]
  }

  # The SCRAM secret is encrypted with a customer-managed key (MSK requires it): decrypting is allowed
  # through Secrets Manager only.
  statement {
    sid       = "DecryptScramSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.kafka_scram_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-helios-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# Task roles: one per role. Kafka access is by the SCRAM user (IAM policies do not apply to SCRAM
# clients), so a task role grants AWS APIs only: the report role may write and read the reports bucket,
# the others get nothing.
resource "aws_iam_role" "task" {
  for_each           = local.roles
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "report_task" {
  statement {
    sid       = "WriteReports"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${var.reports_bucket_arn}/*"]
  }
}

resource "aws_iam_role_policy" "report_task" {
  name   = "helios-report"
  role   = aws_iam_role.task["report"].id
  policy = data.aws_iam_policy_document.report_task.json
}

resource "aws_ecs_task_definition" "role" {
  for_each                 = local.roles
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.roles[each.key].cpu
  memory                   = var.roles[each.key].memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.key].arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  container_definitions = jsonencode([{
    name         = "helios"
    image        = var.image
    command      = each.value.command
    essential    = true
    portMappings = [{ containerPort = each.value.port, protocol = "tcp" }]
    # The config file is rendered at start by the image's entrypoint from HELIOS_CONFIG_YAML, with
    # ${NAME} and ${urlencode:NAME} replaced by these variables and the injected secrets. Helios reads
    # HELIOS_KAFKA_BROKERS and HELIOS_KAFKA_SASL_PASSWORD itself (over bus.kafka.brokers and .sasl.password).
    environment = [
      { name = "HELIOS_CONFIG_YAML", value = var.config_yaml },
      { name = "HELIOS_PORT", value = tostring(each.value.port) },
      { name = "HELIOS_KAFKA_BROKERS", value = var.kafka_bootstrap_brokers },
      { name = "HELIOS_PG_HOST", value = var.db_address },
      { name = "HELIOS_PG_DATABASE", value = var.db_name },
      { name = "HELIOS_REPORTS_BUCKET", value = var.reports_bucket_name },
      { name = "AWS_REGION", value = data.aws_region.current.name },
    ]
    secrets = concat(
      [
        { name = "HELIOS_PG_USER", valueFrom = "${var.db_secret_arn}:username::" },
        { name = "HELIOS_PG_PASSWORD", valueFrom = "${var.db_secret_arn}:password::" },
        { name = "HELIOS_KAFKA_SASL_USERNAME", valueFrom = "${var.kafka_scram_secret_arn}:username::" },
        { name = "HELIOS_KAFKA_SASL_PASSWORD", valueFrom = "${var.kafka_scram_secret_arn}:password::" },
      ],
      each.key == "gateway" ? [{ name = "HELIOS_API_KEYS", valueFrom = var.api_keys_secret_arn }] : [],
      each.key == "report" ? [{ name = "HELIOS_LLM_API_KEY", valueFrom = var.llm_api_key_secret_arn }] : [],
    )
    healthCheck = {
      command     = ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:${each.value.port}/healthz || exit 1"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    stopTimeout = 60
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.role[each.key].name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = each.key
      }
    }
  }])
  tags = var.tags
}

resource "aws_ecs_service" "role" {
  for_each        = local.roles
  name            = each.key
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.role[each.key].arn
  desired_count   = var.roles[each.key].min_count
  launch_type     = "FARGATE"
  # Helios drains on SIGTERM (stop accepting, finish what was accepted); ECS waits stopTimeout for it.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  dynamic "load_balancer" {
    for_each = each.key == "gateway" ? [1] : []
    content {
      target_group_arn = aws_lb_target_group.gateway.arn
      container_name   = "helios"
      container_port   = 8080
    }
  }
  lifecycle {
    # Autoscaling owns the count after creation.
    ignore_changes = [desired_count]
  }
  tags = var.tags
}

resource "aws_appautoscaling_target" "role" {
  for_each           = local.roles
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.role[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.roles[each.key].min_count
  max_capacity       = var.roles[each.key].max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each           = local.roles
  name               = "${var.name}-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.role[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.role[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.role[each.key].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = var.cpu_target_percent
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
  }
}

# Lag per task: total lag of the role's consumer group divided by its running tasks, kept near the
# target. More tasks than partitions would idle, so max_count should stay at or below the partition count.
resource "aws_appautoscaling_policy" "consumer_lag" {
  for_each           = { for k, v in local.roles : k => v if v.consumer_group != null }
  name               = "${var.name}-${each.key}-lag"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.role[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.role[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.role[each.key].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = var.lag_per_task_target
    customized_metric_specification {
      metrics {
        id          = "lag"
        return_data = false
        metric_stat {
          stat = "Maximum"
          metric {
            namespace   = "AWS/Kafka"
            metric_name = "SumOffsetLag"
            dimensions {
              name  = "Cluster Name"
              value = var.msk_cluster_name
            }
            dimensions {
              name  = "Consumer Group"
              value = each.value.consumer_group
            }
            dimensions {
              name  = "Topic"
              value = each.value.topic
            }
          }
        }
      }
      metrics {
        id          = "tasks"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.this.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.role[each.key].name
            }
          }
        }
      }
      metrics {
        id          = "lag_per_task"
        expression  = "lag / MAX([tasks, 1])"
        label       = "Consumer lag per task"
        return_data = true
      }
    }
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
  }
}
