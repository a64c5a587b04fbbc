"""mltui's core: talks to the engine and servers, returns plain values. Never imports the UI."""
