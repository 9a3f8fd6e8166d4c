"""indicated"""
