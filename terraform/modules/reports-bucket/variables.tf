variable "bucket_name" {
  description = "Globally unique bucket name."
  type        = string
}

variable "expire_after_days" {
  description = "Reports older than this are deleted."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow destroying a non-empty bucket (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
