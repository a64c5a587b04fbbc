"""The ready stacks in stacks/: where they are and the images they are built from."""

from __future__ import annotations

from pathlib import Path

from .baseimage import Recipe

STACKS_DIR = Path(__file__).resolve().parents[3] / "stacks"
DEMO_DIR = STACKS_DIR / "demo"

# The demo's model server: trained on scikit-learn's bundled digits while the
# image is built, served with numpy alone behind the TensorFlow Serving REST API.
DEMO_MODEL = Recipe(
    name="mltui-demo-model",
    packages=("python3", "python3-numpy", "python3-sklearn", "python3-pil"),
    cmd=("python3", "/srv/model/server.py"),
    dockerfile="\n".join(
        [
            "COPY model /srv/model",
            "RUN python3 /srv/model/train.py /models/my_model/1",
            "ENV MODEL_NAME=my_model MODEL_BASE_PATH=/models",
            "EXPOSE 8501",
        ]
    ),
    context=(("model", str(DEMO_DIR / "model")),),
)


# nginx from Debian, round-robin in front of the model replicas (see lb/nginx.conf).
DEMO_LB = Recipe(
    name="mltui-demo-lb",
    packages=("nginx",),
    cmd=("nginx", "-c", "/etc/mltui/nginx.conf", "-g", "daemon off;"),
    dockerfile="COPY lb/nginx.conf /etc/mltui/nginx.conf\nEXPOSE 8501",
    context=(("lb", str(DEMO_DIR / "lb")),),
)
DEMO_COMPOSE = DEMO_DIR / "compose.yml"
