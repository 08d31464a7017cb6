npm install effect-opensolar-auth effect @effect/platform @effect/platform-node
