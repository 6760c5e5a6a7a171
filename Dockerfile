# The bridge image: the package and the shipped mappings (mount your own over /app/mappings).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md cli.py ./
COPY bridge ./bridge
COPY connectors ./connectors
COPY topics ./topics
RUN pip install --no-cache-dir .
COPY mappings ./mappings
RUN useradd --system --uid 10001 bridge && mkdir -p /data && chown bridge /data
USER bridge
EXPOSE 8080
ENTRYPOINT ["bridge"]
CMD ["run"]
