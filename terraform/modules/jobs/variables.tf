variable "name" {
  description = "Name of the jobs queue; the dead-letter queue is \"<name>-dead-letters\"."
  type        = string
}

variable "worker_time_limit_seconds" {
  description = "Longest a job may run (the Lambda worker's timeout, the basis of the ECS worker's stop timeout); the visibility timeout is six times it."
  type        = number

  # SQS's visibility timeout is at most 12 hours; Lambda's timeout at most 15 minutes.
  validation {
    condition     = var.worker_time_limit_seconds >= 1 && var.worker_time_limit_seconds <= 900
    error_message = "worker_time_limit_seconds must be between 1 and 900."
  }
}

variable "max_receive_count" {
  description = "Deliveries of a job before it moves to the dead-letter queue."
  type        = number

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 20
    error_message = "max_receive_count must be between 1 and 20."
  }
}

variable "oldest_message_alarm_seconds" {
  description = "Age of the oldest job in the queue above which its alarm fires."
  type        = number
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (in ALARM and back to OK); null: the alarms notify nobody."
  type        = string
  default     = null
}
