locals {
  name = "helios-prod"
  tags = { Project = "helios", Environment = "prod" }
  # One config file for every role; ${NAME} is filled from the task environment at start
  # (deploy/render-config.mjs), so secrets never appear in task definitions or the Terraform state.
  config_yaml = file("${path.module}/helios.config.yaml")
}

module "network" {
  source             = "../../modules/network"
  name               = local.name
  region             = var.region
  cidr_block         = var.vpc_cidr
  az_count           = 3
  single_nat_gateway = false
  tags               = local.tags
}

module "secrets" {
  source               = "../../modules/secrets"
  name                 = local.name
  recovery_window_days = 30
  tags                 = local.tags
}

module "reports_bucket" {
  source        = "../../modules/reports-bucket"
  bucket_name   = "${local.name}-reports-${var.bucket_suffix}"
  force_destroy = false
  tags          = local.tags
}

module "msk" {
  source                    = "../../modules/msk"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.helios.tasks_security_group_id]
  broker_count              = 3
  instance_type             = "kafka.m5.large"
  tags                      = local.tags
}

module "rds" {
  source                    = "../../modules/rds"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.helios.tasks_security_group_id]
  instance_class            = "db.r6g.large"
  multi_az                  = true
  deletion_protection       = true
  tags                      = local.tags
}

module "helios" {
  source                  = "../../modules/helios-ecs"
  name                    = local.name
  image                   = var.image
  config_yaml             = local.config_yaml
  vpc_id                  = module.network.vpc_id
  private_subnet_ids      = module.network.private_subnet_ids
  public_subnet_ids       = module.network.public_subnet_ids
  internal_load_balancer  = var.internal_load_balancer
  ingress_cidrs           = var.ingress_cidrs
  metrics_scrape_cidrs    = [var.vpc_cidr]
  certificate_arn         = var.certificate_arn
  msk_cluster_arn         = module.msk.cluster_arn
  msk_cluster_name        = module.msk.cluster_name
  kafka_bootstrap_brokers = module.msk.bootstrap_brokers_iam
  db_address              = module.rds.address
  db_name                 = module.rds.database_name
  db_secret_arn           = module.rds.master_user_secret_arn
  api_keys_secret_arn     = module.secrets.api_keys_secret_arn
  llm_api_key_secret_arn  = module.secrets.llm_api_key_secret_arn
  reports_bucket_name     = module.reports_bucket.bucket_name
  reports_bucket_arn      = module.reports_bucket.bucket_arn
  roles = {
    gateway = { cpu = 2048, memory = 4096, min_count = 2, max_count = 10 }
    storage = { cpu = 1024, memory = 2048, min_count = 2, max_count = 10 }
    detect  = { cpu = 2048, memory = 4096, min_count = 2, max_count = 10 }
    report  = { cpu = 512, memory = 1024, min_count = 1, max_count = 3 }
  }
  tags = local.tags
}
