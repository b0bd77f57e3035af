locals {
  name = "helios-dev"
  tags = { Project = "helios", Environment = "dev" }
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
  az_count                     = 2
  single_nat_gateway           = true
  secrets_recovery_window_days = 0
  reports_force_destroy        = true
  msk_broker_count             = 2
  msk_instance_type            = "kafka.t3.small"
  db_instance_class            = "db.t4g.medium"
  db_multi_az                  = false
  db_deletion_protection       = false
  roles = {
    gateway = { cpu = 512, memory = 1024, min_count = 1, max_count = 2 }
    storage = { cpu = 512, memory = 1024, min_count = 1, max_count = 2 }
    detect  = { cpu = 512, memory = 1024, min_count = 1, max_count = 2 }
    report  = { cpu = 256, memory = 512, min_count = 1, max_count = 1 }
  }
}
