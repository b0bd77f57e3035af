# Amazon MSK for the Helios bus. Clients authenticate with IAM (SASL/IAM over TLS), so access is
# granted per role by the task policies in ../ecs-service, not by shared passwords.
resource "aws_security_group" "brokers" {
  name        = "${var.name}-msk"
  description = "Kafka brokers: reachable from the Helios tasks only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "iam_tls_from_clients" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.brokers.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  description                  = "SASL/IAM over TLS from Helios tasks"
}

resource "aws_cloudwatch_log_group" "brokers" {
  name              = "/helios/${var.name}/msk"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_msk_configuration" "this" {
  name           = "${var.name}-helios"
  kafka_versions = [var.kafka_version]
  # Topics are created by Helios at start with its partition counts; retention matches the original
  # design's 7 days. min.insync.replicas=2 with acks=all: a 2xx survives the loss of one broker.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=${min(3, var.broker_count)}
    min.insync.replicas=${min(2, var.broker_count)}
    log.retention.hours=${var.retention_hours}
    num.partitions=10
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count
  enhanced_monitoring    = var.enhanced_monitoring

  broker_node_group_info {
    instance_type   = var.instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.brokers.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.volume_size_gb
      }
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam = true
    }
  }

  encryption_info {
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.brokers.name
      }
    }
  }

  tags = var.tags
}
