locals {
  name = "helios-prod"
  tags = { Project = "helios", Environment = "prod" }
  # One config file for every role; ${NAME} is filled from the task environment at start
  # (deploy/render-config.mjs), so secrets never appear in task definitions or the Terraform state.
  config_yaml = file("${path.module}/helios.config.yaml")
}

module "stack" {
  source                       = "../../modules/helios-stack"
  name                         = local.name
  tags                         = local.tags
  region                       = var.region
  vpc_cidr                     = var.vpc_cidr
  image                        = var.image
  config_yaml                  = local.config_yaml
  certificate_arn              = var.certificate_arn
  ingress_cidrs                = var.ingress_cidrs
  internal_load_balancer       = var.internal_load_balancer
  bucket_suffix                = var.bucket_suffix
  az_count                     = 3
  single_nat_gateway           = false
  secrets_recovery_window_days = 30
  reports_force_destroy        = false
  msk_broker_count             = 3
  msk_instance_type            = "kafka.m5.large"
  db_instance_class            = "db.r6g.large"
  db_multi_az                  = true
  db_deletion_protection       = true
  roles = {
    gateway = { cpu = 2048, memory = 4096, min_count = 2, max_count = 10 }
    storage = { cpu = 1024, memory = 2048, min_count = 2, max_count = 10 }
    detect  = { cpu = 2048, memory = 4096, min_count = 2, max_count = 10 }
    report  = { cpu = 512, memory = 1024, min_count = 1, max_count = 3 }
  }
}
