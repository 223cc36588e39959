"""Typed, validated configuration."""
