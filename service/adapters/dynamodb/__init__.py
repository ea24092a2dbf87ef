"""The ImageRepository on one DynamoDB table: keys, items, listings and writes."""
