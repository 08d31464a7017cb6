npm install effect-opensolar-auth ioredis
