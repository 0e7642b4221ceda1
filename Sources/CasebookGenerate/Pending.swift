enum GeneratePending {}
