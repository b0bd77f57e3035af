# Amazon MSK for the Helios bus. Helios's Kafka client (kafkajs) speaks SASL/SCRAM, not SASL/IAM, so
# clients authenticate with SCRAM-SHA-512 over TLS (port 9096) as one user whose name and password sit
# in the Secrets Manager secret below (MSK requires the AmazonMSK_ prefix and a customer-managed KMS key).
resource "aws_security_group" "brokers" {
  name        = "${var.name}-msk"
  description = "Kafka brokers: reachable from the Helios tasks only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "scram_tls_from_clients" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.brokers.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9096
  to_port                      = 9096
  description                  = "SASL/SCRAM over TLS from Helios tasks"
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
      scram = true
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

# SCRAM credentials. MSK refuses secrets encrypted with the default aws/secretsmanager key, hence a key
# of our own. Terraform creates the secret without a value: an operator puts
# {"username": "...", "password": "..."} (terraform/README.md), so the password never enters the state.
resource "aws_kms_key" "scram" {
  description             = "Encrypts the SCRAM credentials of MSK cluster ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  tags                    = var.tags
}

resource "aws_kms_alias" "scram" {
  name          = "alias/${var.name}-msk-scram"
  target_key_id = aws_kms_key.scram.key_id
}

resource "aws_secretsmanager_secret" "scram" {
  name                    = "AmazonMSK_${var.name}"
  description             = "SASL/SCRAM-SHA-512 credentials of the Helios tasks on MSK cluster ${var.name}: {\"username\", \"password\"}"
  kms_key_id              = aws_kms_key.scram.key_id
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

# MSK reads the secret with this policy; the association would attach the same policy out of band and
# leave a diff on every plan, so it is managed here.
data "aws_iam_policy_document" "scram_secret" {
  statement {
    sid       = "AWSKafkaResourcePolicy"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.scram.arn]
    principals {
      type        = "Service"
      identifiers = ["kafka.amazonaws.com"]
    }
  }
}

resource "aws_secretsmanager_secret_policy" "scram" {
  secret_arn = aws_secretsmanager_secret.scram.arn
  policy     = data.aws_iam_policy_document.scram_secret.json
}

# The secret must hold its value before this is created (see terraform/README.md). MSK reads the value
# at association: after changing it, replace this resource so the brokers pick the new one up.
resource "aws_msk_scram_secret_association" "this" {
  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [aws_secretsmanager_secret.scram.arn]
  depends_on      = [aws_secretsmanager_secret_policy.scram]
}
