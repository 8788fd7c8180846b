FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . && python manage.py collectstatic --noinput
# The image runs in production: DEBUG off, so it refuses to start without a real SECRET_KEY and
# expects HTTPS in front (docs/operations.md lists the switches).
ENV DEBUG=false
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
