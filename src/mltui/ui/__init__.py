"""mltui's Textual UI. Never calls docker-py or HTTP: it asks core from workers."""
