# Governor: the collector, run as the bundle collector/scripts/build.js makes of its sources.
# The compose stack also runs the demo app from this image (examples/demo-app).
FROM node:20.19.5-slim

WORKDIR /app

# Dependencies first, so that a source change does not reinstall them. Development
# dependencies stay: the demo app uses the OpenTelemetry SDK from them.
COPY package.json package-lock.json ./
COPY collector/package.json collector/
COPY throttle/package.json throttle/
COPY dashboards/package.json dashboards/
RUN npm ci --no-audit --no-fund

COPY . .
RUN node collector/scripts/build.js

# In a container Governor listens on every address, which needs GOVERNOR_TOKENS (it refuses to
# start open). The embedded store's directory, for runs without GOVERNOR_CLICKHOUSE_URL.
ENV GOVERNOR_HOST=0.0.0.0 \
    GOVERNOR_DATA_DIR=/var/lib/governor
RUN mkdir -p /var/lib/governor && chown node:node /var/lib/governor
VOLUME /var/lib/governor

USER node
EXPOSE 4318 4317
CMD ["node", "collector/bin/governor.js", "start"]
