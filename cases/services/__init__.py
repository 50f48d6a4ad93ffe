"""Business rules of cases, as plain functions that views, intake adapters, commands and tasks call."""
