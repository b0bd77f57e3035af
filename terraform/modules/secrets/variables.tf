variable "name" {
  description = "Prefix of the secret names."
  type        = string
}

variable "recovery_window_days" {
  description = "Days a deleted secret can be restored (0: delete at once, dev only)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
