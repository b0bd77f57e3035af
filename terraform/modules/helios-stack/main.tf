# Everything one Helios environment runs, wired together; environments differ only in sizes and safety settings.
module "network" {
  source             = "../network"
  name               = var.name
  region             = var.region
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  tags               = var.tags
}

module "secrets" {
  source               = "../secrets"
  name                 = var.name
  recovery_window_days = var.secrets_recovery_window_days
  tags                 = var.tags
}

module "reports_bucket" {
  source        = "../reports-bucket"
  bucket_name   = "${var.name}-reports-${var.bucket_suffix}"
  force_destroy = var.reports_force_destroy
  tags          = var.tags
}

module "msk" {
  source                      = "../msk"
  name                        = var.name
  vpc_id                      = module.network.vpc_id
  subnet_ids                  = module.network.private_subnet_ids
  client_security_group_ids   = [module.helios.tasks_security_group_id]
  broker_count                = var.msk_broker_count
  instance_type               = var.msk_instance_type
  secret_recovery_window_days = var.secrets_recovery_window_days
  tags                        = var.tags
}

module "rds" {
  source                    = "../rds"
  name                      = var.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.helios.tasks_security_group_id]
  instance_class            = var.db_instance_class
  multi_az                  = var.db_multi_az
  deletion_protection       = var.db_deletion_protection
  tags                      = var.tags
}

module "helios" {
  source                  = "../helios-ecs"
  name                    = var.name
  image                   = var.image
  config_yaml             = var.config_yaml
  vpc_id                  = module.network.vpc_id
  private_subnet_ids      = module.network.private_subnet_ids
  public_subnet_ids       = module.network.public_subnet_ids
  internal_load_balancer  = var.internal_load_balancer
  ingress_cidrs           = var.ingress_cidrs
  metrics_scrape_cidrs    = [var.vpc_cidr]
  certificate_arn         = var.certificate_arn
  msk_cluster_name        = module.msk.cluster_name
  kafka_bootstrap_brokers = module.msk.bootstrap_brokers_sasl_scram
  kafka_scram_secret_arn  = module.msk.scram_secret_arn
  kafka_scram_kms_key_arn = module.msk.scram_kms_key_arn
  db_address              = module.rds.address
  db_name                 = module.rds.database_name
  db_secret_arn           = module.rds.master_user_secret_arn
  api_keys_secret_arn     = module.secrets.api_keys_secret_arn
  llm_api_key_secret_arn  = module.secrets.llm_api_key_secret_arn
  reports_bucket_name     = module.reports_bucket.bucket_name
  reports_bucket_arn      = module.reports_bucket.bucket_arn
  roles                   = var.roles
  tags                    = var.tags
}
