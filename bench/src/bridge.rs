//! Bridge scenarios (through ferry-bridge and websockify); filled in with the bridge.
